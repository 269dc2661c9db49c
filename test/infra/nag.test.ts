import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { synthStack } from './synth.ts';

interface Report {
  pluginReports: Array<{
    pluginName: string;
    conclusion: string;
    violations: Array<{ ruleName: string }>;
    suppressedViolations: Array<{ ruleName: string; reason: string; acknowledgedAt: string }>;
  }>;
}

/** Runs cdk-nag's AwsSolutionsChecks while synthesizing; returns its report (throws on a finding). */
async function nagReport(context: unknown) {
  const { app } = await synthStack(context, { nag: true });
  const assembly = app.synth();
  const report = JSON.parse(
    readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'),
  ) as Report;
  const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
  if (!nag) throw new Error('no AwsSolutions report');
  return nag;
}

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';

describe('cdk-nag AwsSolutionsChecks', () => {
  it('default config: no unacknowledged finding, and every acknowledgment gives its reason', async () => {
    const nag = await nagReport({});
    expect(nag.conclusion).toBe('success');
    expect(nag.violations).toEqual([]);
    for (const s of nag.suppressedViolations) expect(s.reason.length, s.ruleName).toBeGreaterThan(60);
    // The acknowledged rules, on purpose: a new one must be added here with its reason in infra/lib/nag.ts.
    const rules = new Set(nag.suppressedViolations.map((s) => s.ruleName.replace(/\[.*$/, '')));
    expect([...rules].sort()).toEqual([
      'AwsSolutions-CFR1',
      'AwsSolutions-CFR2',
      'AwsSolutions-CFR3',
      'AwsSolutions-CFR4',
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-S1',
    ]);
    // IAM4 (AWS managed policy) is acknowledged only for CDK's own bucket-notifications handler.
    const iam4 = nag.suppressedViolations.filter((s) => s.ruleName.startsWith('AwsSolutions-IAM4'));
    expect(iam4.map((s) => s.acknowledgedAt)).toEqual([
      expect.stringMatching(/^Litepix\/BucketNotificationsHandler/),
    ]);
    // The results prefix wildcard is acknowledged on the worker's policy only (the one grant on that bucket).
    const results = nag.suppressedViolations.filter((s) =>
      /BucketsResults.*\/results\/\*\]$/.test(s.ruleName),
    );
    expect(results.map((s) => s.acknowledgedAt)).toEqual(['Litepix/Prewarm/Worker/Role/DefaultPolicy']);
  });

  it('everything on (signing, custom domain, logs, existing bucket, alarm e-mails): logging and TLS findings are fixed, not acknowledged', async () => {
    const nag = await nagReport({
      signing: true,
      accessLogs: true,
      domainNames: ['img.example.com'],
      certificateArn: CERT,
      originalsBucketName: 'my-photos',
      originShieldRegion: 'eu-central-1',
      corsAllowOrigins: ['*'],
      alarmEmails: ['ops@example.com'],
      alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:pager',
    });
    expect(nag.violations).toEqual([]);
    const rules = nag.suppressedViolations.map((s) => s.ruleName);
    expect(rules).not.toContain('AwsSolutions-CFR3');
    expect(rules).not.toContain('AwsSolutions-CFR4');
  });

  it('is live: a resource added without care fails the synthesis', async () => {
    const { app, stack } = await synthStack({}, { nag: true });
    new sqs.Queue(stack, 'Careless', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3[\s\S]*Litepix\/Careless/);
  });
});
