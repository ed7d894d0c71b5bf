import { dictionary } from '@zxcvbn-ts/language-common';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 128;

/**
 * The ~49,000 most common passwords from leaked-password corpora, as bundled by
 * @zxcvbn-ts/language-common (ranked list `passwords-common`), lower-cased for lookup.
 */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(dictionary['passwords-common'].map((word) => word.toLowerCase()));

/**
 * Why a password is refused, or undefined when it is acceptable: too short or too long (counted
 * in characters), blank, one character repeated, or on the common-password list (case-insensitive,
 * also with surrounding spaces removed).
 */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `Password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `Password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  if (password.trim() === '') return 'Password must not be blank';
  if (new Set(password).size === 1) return 'Password must not be one character repeated';
  const normalised = password.trim().toLowerCase();
  if (COMMON_PASSWORDS.has(normalised)) return 'Password is too common: it appears in lists of leaked passwords';
  return undefined;
}

/** The fields of better-auth's endpoints that set a new password. */
export const PASSWORD_FIELDS: Readonly<Record<string, string>> = {
  '/sign-up/email': 'password',
  '/change-password': 'newPassword',
  '/reset-password': 'newPassword',
  '/set-password': 'newPassword',
};
