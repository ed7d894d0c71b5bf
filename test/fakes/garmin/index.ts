export * from './data.js';
export * from './server.js';
