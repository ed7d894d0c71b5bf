import cliProgress from 'cli-progress';

/** The command-line tools' progress bar (npm run import, npm run reprocess): one line, the given fields, an ETA. */
export function progressBar(format: string): cliProgress.SingleBar {
  return new cliProgress.SingleBar({ format: ` {bar} ${format} | ETA {eta_formatted}`, hideCursor: true, etaBuffer: 50 }, cliProgress.Presets.shades_classic);
}
