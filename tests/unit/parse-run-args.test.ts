import { buildDockerRunArgs } from '../../payload/run/build-docker-run-args';
import { parseRunArgs } from '../../payload/run/parse-run-args';

describe('parseRunArgs', () => {
  it('takes the first non-option as the image and passes the rest on untouched', () => {
    expect(parseRunArgs(['--local', 'team/app', 'sh', '-c', 'echo "a  b"', '--local'])).toEqual({
      kind: 'run',
      image: 'team/app',
      command: ['sh', '-c', 'echo "a  b"', '--local'],
    });
  });

  it('answers --version and --help', () => {
    expect(parseRunArgs(['--version'])).toEqual({ kind: 'version' });
    expect(parseRunArgs(['--local', '-h'])).toEqual({ kind: 'help' });
  });

  it('reads the image after --', () => {
    expect(parseRunArgs(['--', 'app', '--x'])).toEqual({ kind: 'run', image: 'app', command: ['--x'] });
  });

  it('names an unknown option and a missing image', () => {
    expect(() => parseRunArgs(['--frobnicate', 'app'])).toThrow('unknown option "--frobnicate"');
    expect(() => parseRunArgs(['--local'])).toThrow('no image given');
    expect(() => parseRunArgs(['--'])).toThrow('no image given');
  });
});

describe('buildDockerRunArgs', () => {
  it('keeps stdin open, and asks for a TTY only when both ends are terminals', () => {
    expect(buildDockerRunArgs('a:1', ['echo', 'x y'], { stdin: false, stdout: false })).toEqual(['run', '--rm', '--init', '-i', 'a:1', 'echo', 'x y']);
    expect(buildDockerRunArgs('a:1', [], { stdin: true, stdout: true })).toEqual(['run', '--rm', '--init', '-i', '-t', 'a:1']);
    expect(buildDockerRunArgs('a:1', [], { stdin: true, stdout: false })).toEqual(['run', '--rm', '--init', '-i', 'a:1']);
  });
});
