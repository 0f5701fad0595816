// Registered for every integration test file (jest.config.js): what the shared helpers
// left on the host is removed even when a file forgets to.
import { removePublishedImages } from './shim';

afterAll(() => removePublishedImages());
