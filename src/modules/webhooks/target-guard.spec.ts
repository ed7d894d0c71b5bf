import { describe, expect, it } from '@jest/globals';
import { checkTarget, forbiddenAddressReason, TargetRefusedError, type Resolver } from './target-guard.js';

const resolver = (answers: Record<string, string[]>): Resolver => async (hostname) =>
  (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('webhook target guard', () => {
  it('refuses loopback, private, link-local, CGNAT, multicast and ULA addresses', () => {
    for (const address of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '224.0.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', 'ff02::1', '::ffff:10.0.0.1']) {
      expect({ address, refused: forbiddenAddressReason(address) !== undefined }).toEqual({ address, refused: true });
    }
    for (const address of ['93.184.215.14', '1.1.1.1', '2606:4700:4700::1111']) {
      expect({ address, refused: forbiddenAddressReason(address) !== undefined }).toEqual({ address, refused: false });
    }
  });

  it('checks every address a name resolves to, and pins the first', async () => {
    const policy = { allowPrivate: false, requireHttps: false };
    await expect(checkTarget('http://internal.example/hook', policy, resolver({ 'internal.example': ['10.0.0.1'] }))).rejects.toThrow(TargetRefusedError);
    await expect(checkTarget('http://mixed.example/hook', policy, resolver({ 'mixed.example': ['1.1.1.1', '127.0.0.1'] }))).rejects.toThrow(/127\.0\.0\.1/);
    await expect(checkTarget('http://[::1]:8080/hook', policy, resolver({}))).rejects.toThrow(TargetRefusedError);
    await expect(checkTarget('http://public.example/hook', policy, resolver({ 'public.example': ['1.1.1.1'] }))).resolves.toEqual({ address: '1.1.1.1', family: 4 });
    await expect(checkTarget('http://127.0.0.1/hook', { ...policy, allowPrivate: true }, resolver({}))).resolves.toEqual({ address: '127.0.0.1', family: 4 });
  });

  it('wants https when asked, and no credentials in the URL', async () => {
    await expect(checkTarget('http://public.example/', { allowPrivate: false, requireHttps: true }, resolver({ 'public.example': ['1.1.1.1'] }))).rejects.toThrow(/https/);
    await expect(checkTarget('https://u:p@public.example/', { allowPrivate: false, requireHttps: true }, resolver({ 'public.example': ['1.1.1.1'] }))).rejects.toThrow(/credentials/);
  });
});
