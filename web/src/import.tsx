import { zipSync } from 'fflate';
import { useRef, useState } from 'preact/hooks';
import { api, messageOf, type Api } from './api.js';
import { useApp } from './context.js';

type Answer = Awaited<ReturnType<Api['imports']['create']>>;
type FileResult = Extract<Answer, { status: 200 }>['body']['files'][number];

interface Upload {
  key: number;
  name: string;
  state: 'waiting' | 'uploading' | 'processing' | 'done' | 'failed';
  progress?: string;
  results: FileResult[];
  error?: string;
}

/** Files of a drop, folders walked (a folder of FIT files, an unpacked apple_health_export/). */
async function droppedFiles(transfer: DataTransfer): Promise<File[]> {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.()).filter((entry): entry is FileSystemEntry => !!entry);
  if (entries.length === 0) return [...transfer.files];
  const files: File[] = [];
  const walk = async (entry: FileSystemEntry, path: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      files.push(path ? new File([file], `${path}${file.name}`, { type: file.type }) : file);
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${path}${entry.name}/`);
      }
    }
  };
  for (const entry of entries) await walk(entry, '');
  return files;
}

/** A file's path within what was dropped or picked (a folder's files keep their folders). */
const pathOf = (file: File) => file.webkitRelativePath || file.name;

/**
 * An unpacked Apple Health export (a folder holding export.xml, with workout-routes/) only reads as
 * one piece: its files are zipped here (stored, not compressed) into the export.zip the phone would
 * have made, and sent as that one file. Other files go as they are.
 */
export async function bundleAppleHealth(files: File[]): Promise<File[]> {
  const exportXml = files.find((file) => /(^|\/)export\.xml$/.test(pathOf(file)));
  if (!exportXml) return files;
  const folder = pathOf(exportXml).slice(0, -'export.xml'.length);
  const inside = files.filter((file) => pathOf(file).startsWith(folder));
  const entries: Record<string, Uint8Array> = {};
  for (const file of inside) entries[`apple_health_export/${pathOf(file).slice(folder.length)}`] = new Uint8Array(await file.arrayBuffer());
  // Synchronous: fflate's asynchronous zip runs in blob: workers, which the page's CSP does not allow.
  const bytes = zipSync(entries, { level: 0 });
  const name = folder ? `${folder.replace(/\/$/, '').split('/').pop()}.zip` : 'export.zip';
  return [...files.filter((file) => !inside.includes(file)), new File([bytes as BlobPart], name, { type: 'application/zip' })];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function ImportPage() {
  const { athleteId } = useApp();
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [over, setOver] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const folderPicker = useRef<HTMLInputElement>(null);
  const counter = useRef(0);

  const update = (key: number, change: Partial<Upload>) => setUploads((all) => all.map((upload) => (upload.key === key ? { ...upload, ...change } : upload)));

  /** One request per file, in turn: each file has its own progress and results (an archive: one per entry). */
  const send = async (picked: File[]) => {
    const files = await bundleAppleHealth(picked);
    const queued = files.map((file) => ({ file, key: ++counter.current }));
    setUploads((all) => [...queued.map(({ file, key }) => ({ key, name: pathOf(file), state: 'waiting' as const, results: [] })), ...all]);
    for (const { file, key } of queued) {
      update(key, { state: 'uploading' });
      try {
        const answer = await api.imports.create({ params: { id: athleteId }, query: {}, body: { files: [file] } });
        if (answer.status === 200) {
          update(key, { state: 'done', results: answer.body.files });
          continue;
        }
        // A large file became a job: follow it.
        let job = answer.body;
        while (job.status === 'queued' || job.status === 'running') {
          update(key, { state: 'processing', progress: `${job.filesDone}/${job.filesTotal} files`, results: job.files });
          await sleep(1000);
          job = await api.imports.getJob({ jobId: job.id });
        }
        update(key, job.status === 'completed' ? { state: 'done', results: job.files, progress: undefined } : { state: 'failed', error: job.error ?? 'the import failed', results: job.files });
      } catch (caught) {
        update(key, { state: 'failed', error: messageOf(caught) });
      }
    }
  };

  const onDrop = async (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    if (event.dataTransfer) await send(await droppedFiles(event.dataTransfer));
  };
  const onPick = (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = '';
    void send(files);
  };

  return (
    <>
      <h1 tabIndex={-1}>Import</h1>
      <p>FIT, GPX and TCX files (also gzipped or zipped), a folder of them, or an Apple Health export (export.zip).</p>
      <div
        class={`dropzone${over ? ' over' : ''}`}
        data-testid="dropzone"
        onDragOver={(event) => {
          event.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <p>Drop files or folders here</p>
        <button type="button" onClick={() => picker.current?.click()}>
          Choose files…
        </button>{' '}
        <button type="button" onClick={() => folderPicker.current?.click()}>
          Choose a folder…
        </button>
        <input ref={picker} type="file" multiple hidden aria-label="Files to import" onChange={onPick} />
        <input ref={folderPicker} type="file" hidden aria-label="Folder to import" {...{ webkitdirectory: '' }} onChange={onPick} />
      </div>
      {uploads.length > 0 && (
        <section aria-labelledby="uploads" aria-live="polite">
          <h2 id="uploads">Files</h2>
          <ul class="uploads">
            {uploads.map((upload) => (
              <li key={upload.key} data-state={upload.state}>
                <strong>{upload.name}</strong> <span class={`state state-${upload.state}`}>{upload.state}</span>
                {upload.progress && <span> {upload.progress}</span>}
                {upload.error && <span class="error"> {upload.error}</span>}
                {upload.results.length > 0 && (
                  <ul>
                    {upload.results.map((result) => (
                      <li key={result.fileName} class={`result result-${result.status}`} data-status={result.status}>
                        {result.fileName}: <strong>{result.status}</strong>
                        {result.reason && <> — {result.reason}</>}
                        {[...result.activityIds, ...result.existingIds].map((id) => (
                          <>
                            {' '}
                            <a key={id} href={`#/activity/${id}`}>
                              open
                            </a>
                          </>
                        ))}
                        {result.warnings.length > 0 && <span class="hint"> ({result.warnings.length} warning{result.warnings.length === 1 ? '' : 's'})</span>}
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
