/** The page the browser lands on after connecting when no returnTo was given. */
export function connectedPage(provider: string): string {
  const name = provider === 'strava' ? 'Strava' : provider === 'garmin' ? 'Garmin' : 'The provider';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Connected</title></head>
<body><h1>Connected</h1><p>${name} is connected — you can close this window.</p></body></html>
`;
}
