/**
 * Alarms and a small dashboard: the origin's 5xx rate (Function URL metrics), Lambda errors
 * and throttles, and a dead-letter queue that is not empty. Alarms notify (when they fire and
 * when they clear) an SNS topic: one the stack creates for `alarmEmails`, and/or the existing
 * `alarmTopicArn`; with neither, they only show on the dashboard.
 */
import { Duration } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StackConfig } from './config.ts';

export interface OperationsProps {
  config: StackConfig;
  origin: lambda.Function;
  /** The pre-warm worker (SQS) and, with upload notifications, the uploads (S3) Lambda. */
  prewarm: lambda.Function;
  uploads: lambda.Function | undefined;
  queue: sqs.IQueue;
  deadLetters: sqs.IQueue;
  distribution: cloudfront.IDistribution;
}

const FIVE_MINUTES = Duration.minutes(5);

export class Operations extends Construct {
  readonly alarms: cw.Alarm[] = [];
  readonly dashboard: cw.Dashboard;
  /** The topic made for `alarmEmails`, if any. */
  readonly alarmTopic: sns.Topic | undefined;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const { origin, config } = props;
    const sum = (fn: lambda.Function, name: string) =>
      fn.metric(name, { statistic: 'Sum', period: FIVE_MINUTES });
    const origin5xxRate = new cw.MathExpression({
      label: 'origin 5xx %',
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { requests: sum(origin, 'UrlRequestCount'), errors: sum(origin, 'Url5xxCount') },
      period: FIVE_MINUTES,
    });
    const topics: sns.ITopic[] = [];
    if (config.alarmEmails.length > 0) {
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
        displayName: 'litepix alarms',
        enforceSSL: true,
      });
      for (const email of config.alarmEmails) this.alarmTopic.addSubscription(new EmailSubscription(email));
      topics.push(this.alarmTopic);
    }
    if (config.alarmTopicArn)
      topics.push(sns.Topic.fromTopicArn(this, 'ExistingAlarmTopic', config.alarmTopicArn));
    const alarm = (name: string, metric: cw.IMetric, threshold: number, description: string, periods = 1) => {
      const a = new cw.Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      for (const topic of topics) {
        a.addAlarmAction(new SnsAction(topic));
        a.addOkAction(new SnsAction(topic));
      }
      this.alarms.push(a);
      return a;
    };
    alarm(
      'Origin5xxRate',
      origin5xxRate,
      config.alarmOrigin5xxPercent,
      `More than ${config.alarmOrigin5xxPercent}% of origin requests answered 5xx, two 5-minute periods running`,
      2,
    );
    alarm(
      'OriginErrors',
      origin.metricErrors({ period: FIVE_MINUTES }),
      1,
      'The origin Lambda failed (crash or timeout)',
    );
    alarm(
      'OriginThrottles',
      origin.metricThrottles({ period: FIVE_MINUTES }),
      1,
      'The origin Lambda was throttled',
    );
    const others: Array<[string, lambda.Function]> = [['Prewarm', props.prewarm]];
    if (props.uploads) others.push(['Uploads', props.uploads]);
    for (const [name, fn] of others) {
      const what = `The ${name.toLowerCase()} Lambda`;
      alarm(`${name}Errors`, fn.metricErrors({ period: FIVE_MINUTES }), 1, `${what} failed`);
      alarm(`${name}Throttles`, fn.metricThrottles({ period: FIVE_MINUTES }), 1, `${what} was throttled`);
    }
    const functions = [origin, ...others.map(([, fn]) => fn)];
    alarm(
      'DeadLettersNotEmpty',
      props.deadLetters.metricApproximateNumberOfMessagesVisible({
        period: FIVE_MINUTES,
        statistic: 'Maximum',
      }),
      1,
      'Pre-warm messages or upload events failed every retry: see the dead-letter queue',
    );

    // CloudFront publishes its metrics in us-east-1 with Region=Global, whatever the stack's region.
    const cdn = (metricName: string, statistic: string) =>
      new cw.Metric({
        namespace: 'AWS/CloudFront',
        metricName,
        dimensionsMap: { DistributionId: props.distribution.distributionId, Region: 'Global' },
        region: 'us-east-1',
        statistic,
        period: FIVE_MINUTES,
      });
    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new cw.GraphWidget({ title: 'CDN requests', left: [cdn('Requests', 'Sum')], width: 8 }),
          new cw.GraphWidget({
            title: 'CDN error rate %',
            left: [cdn('4xxErrorRate', 'Average'), cdn('5xxErrorRate', 'Average')],
            width: 8,
          }),
          new cw.GraphWidget({ title: 'Origin 5xx %', left: [origin5xxRate], width: 8 }),
        ],
        [
          new cw.GraphWidget({
            title: 'Origin requests (misses)',
            left: [sum(origin, 'UrlRequestCount'), sum(origin, 'Url4xxCount'), sum(origin, 'Url5xxCount')],
            width: 8,
          }),
          new cw.GraphWidget({
            title: 'Origin duration ms',
            left: [
              origin.metricDuration({ statistic: 'p50', period: FIVE_MINUTES }),
              origin.metricDuration({ statistic: 'p99', period: FIVE_MINUTES }),
            ],
            width: 8,
          }),
          new cw.GraphWidget({
            title: 'Lambda errors and throttles',
            left: functions.flatMap((fn) => [
              fn.metricErrors({ period: FIVE_MINUTES }),
              fn.metricThrottles({ period: FIVE_MINUTES }),
            ]),
            width: 8,
          }),
        ],
        [
          new cw.GraphWidget({
            title: 'Pre-warm queue',
            left: [
              props.queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES }),
              props.deadLetters.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES }),
            ],
            right: [props.queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES })],
            width: 12,
          }),
          new cw.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12 }),
        ],
      ],
    });
  }
}
