export * from './auth.js';
export * from './athletes.js';
export * from './catalog.js';
export * from './activities.js';
export * from './streams.js';
export * from './sync.js';
export * from './imports.js';
export * from './duplicates.js';
