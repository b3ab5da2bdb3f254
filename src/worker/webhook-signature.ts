// X-Signature of a webhook: "sha256=" + hex HMAC-SHA256 of the raw request body, keyed with the tenant's secret.
// Receivers compute the same over the bytes they received and compare in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const webhookSignature = (secret: string, body: string | Buffer): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export function verifyWebhookSignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(webhookSignature(secret, body));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
