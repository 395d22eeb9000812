import { exportPKCS8, exportSPKI, generateKeyPair } from 'jose';

/** A GitHub App key pair for tests and the demo (GitHub's are RSA; RS256 JWTs). */
export interface GithubAppKey {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** @example const { privateKeyPem, publicKeyPem } = await generateGithubAppKey() */
export async function generateGithubAppKey(): Promise<GithubAppKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    privateKeyPem: await exportPKCS8(privateKey),
    publicKeyPem: await exportSPKI(publicKey),
  };
}
