import { constants, createCipheriv, createHash, createHmac, publicEncrypt, randomBytes, X509Certificate } from 'node:crypto';

/**
 * Seals a resource the way Microsoft Graph does for rich notifications (per Graph's documentation),
 * written separately from the package's decryptor so round trips test one against the other.
 */
export function encryptLikeGraph(
	resource: unknown,
	certificatePem: string,
	certificateId: string,
	plaintextOverride?: Buffer,
) {
	const key = randomBytes(32);
	const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
	const plaintext = plaintextOverride ?? Buffer.from(JSON.stringify(resource), 'utf8');
	const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
	return {
		data: data.toString('base64'),
		dataSignature: createHmac('sha256', key).update(data).digest('base64'),
		dataKey: publicEncrypt(
			{ key: certificatePem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
			key,
		).toString('base64'),
		encryptionCertificateId: certificateId,
		encryptionCertificateThumbprint: createHash('sha1')
			.update(new X509Certificate(certificatePem).raw)
			.digest('hex')
			.toUpperCase(),
		symmetricKey: key,
	};
}
