/** The versions of the IoT SQL a topic rule may name (AWS IoT developer guide, "SQL versions"). */
export const AWS_IOT_SQL_VERSIONS: readonly string[] = ['2015-10-08', '2016-03-23', 'beta'];
/** The only IoT SQL version this engine runs. */
export const SQL_VERSION_2016 = '2016-03-23';
/** What AWS uses when awsIotSqlVersion is omitted (CloudFormation TopicRulePayload). */
export const DEFAULT_AWS_SQL_VERSION = '2015-10-08';
