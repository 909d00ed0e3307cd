/** The only IoT SQL version this engine runs (AWS IoT developer guide, "SQL versions"). */
export const SQL_VERSION_2016 = '2016-03-23';
/** What AWS uses when awsIotSqlVersion is omitted (CloudFormation TopicRulePayload). */
export const DEFAULT_AWS_SQL_VERSION = '2015-10-08';
