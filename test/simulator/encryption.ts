import { constants, createCipheriv, createHash, createHmac, publicEncrypt, randomBytes, X509Certificate } from 'crypto';
import type { SubscriptionLike } from './subscriptionStore';

/**
 * Graph's side of rich notifications (changeNotificationEncryptedContent): a fresh 32-byte key per item;
 * data = AES-256-CBC/PKCS#7 with IV = key[0..16); dataSignature = HMAC-SHA256(key, data bytes);
 * dataKey = RSA-OAEP (SHA-1, MGF1-SHA-1) of the key under the subscription's encryptionCertificate.
 */
export interface EncryptedContent {
	data: string;
	dataSignature: string;
	dataKey: string;
	encryptionCertificateId: string;
	encryptionCertificateThumbprint: string;
}

export function encryptForSubscription(
	subscription: Pick<SubscriptionLike, 'encryptionCertificate' | 'encryptionCertificateId'>,
	resource: Record<string, unknown> | string,
): EncryptedContent {
	if (!subscription.encryptionCertificate) {
		throw new Error('Subscription has no encryptionCertificate; it does not receive resource data.');
	}
	const certDer = Buffer.from(subscription.encryptionCertificate.replace(/\s+/g, ''), 'base64');
	const cert = new X509Certificate(certDer);
	const key = randomBytes(32);
	const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
	const plaintext = typeof resource === 'string' ? resource : JSON.stringify(resource);
	const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
	return {
		data: data.toString('base64'),
		dataSignature: createHmac('sha256', key).update(data).digest('base64'),
		dataKey: publicEncrypt({ key: cert.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, key).toString('base64'),
		encryptionCertificateId: subscription.encryptionCertificateId ?? '',
		encryptionCertificateThumbprint: createHash('sha1').update(cert.raw).digest('hex').toUpperCase(),
	};
}
