import { describe, expect, it } from '@jest/globals';
import { detectFormat } from './types.js';

const enc = (text: string) => new TextEncoder().encode(text);

describe('detectFormat', () => {
  it('sniffs each format by content, whatever the name', () => {
    const fit = Uint8Array.from([14, 0x20, 0x08, 0x52, 0, 0, 0, 0, 0x2e, 0x46, 0x49, 0x54, 0, 0]);
    expect(detectFormat(fit, 'a.gpx')).toBe('fit');
    expect(detectFormat(enc('<?xml version="1.0"?>\n<gpx version="1.1" creator="x">'), 'a.bin')).toBe('gpx');
    expect(detectFormat(enc('\uFEFF<gpx:gpx xmlns:gpx="http://www.topografix.com/GPX/1/1">'))).toBe('gpx');
    expect(detectFormat(enc('<?xml version="1.0"?><TrainingCenterDatabase xmlns="x">'))).toBe('tcx');
    expect(detectFormat(enc('<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n<!ELEMENT HealthData (x)>]>\n<HealthData locale="en">'))).toBe('apple_health_xml');
  });

  it('uses the name only for XML whose root lies beyond the sniffed head, and knows nothing else', () => {
    const padded = enc(`<?xml version="1.0"?><!-- ${'x'.repeat(5000)} --><gpx>`);
    expect(detectFormat(padded, 'Track.GPX')).toBe('gpx');
    expect(detectFormat(padded, 'notes.txt')).toBeUndefined();
    expect(detectFormat(enc('hello'), 'x.fit')).toBeUndefined();
    expect(detectFormat(Uint8Array.from([0x1f, 0x8b, 8, 0]), 'x.fit.gz')).toBeUndefined();
    expect(detectFormat(new Uint8Array(0))).toBeUndefined();
  });
});
