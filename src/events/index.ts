export * from './envelope.js';
export * from './common.js';
export * from './cicd.js';
export * from './servicenow.js';
export * from './gate.js';
export * from './types.js';
export * from './build.js';
