export const APP_CREDENTIAL = 'microsoftGraphAppApi';
export const NOTIFICATION_CERTIFICATE_CREDENTIAL = 'microsoftGraphNotificationCertificateApi';
