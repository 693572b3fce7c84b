export * from './jute.js';
export * from './schema.js';
export * from './records.js';
export * from './constants.js';
export * from './framer.js';
export * from './multi.js';
