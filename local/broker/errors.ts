/**
 * A refusal of the broker. MQTT 3.1.1 has no error documents: AWS IoT answers a denied CONNECT
 * with a refused connection and closes the connection on a denied PUBLISH or SUBSCRIBE (AWS IoT
 * Core Developer Guide, "MQTT" > "AWS IoT differences from MQTT specifications"). The broker
 * logs one line per refusal and hands aedes a Refusal, which closes the connection without
 * logging it again.
 */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    message: string,
    /** CONNACK return code for a refused CONNECT (5: not authorized; 3: server unavailable). */
    readonly returnCode?: number,
  ) {
    super(message);
  }
}
