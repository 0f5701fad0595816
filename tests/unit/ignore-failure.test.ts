import { ignoreFailure } from '../../common/ignore-failure';

describe('ignoreFailure', () => {
  it('passes a value through and logs nothing', async () => {
    const lines: string[] = [];
    await expect(
      ignoreFailure(Promise.resolve(7), 'never needed', { debug: (line) => lines.push(line) }),
    ).resolves.toBe(7);
    expect(lines).toEqual([]);
  });

  it('turns a failure into undefined, with one debug line that says what and why', async () => {
    const lines: string[] = [];
    const failing = Promise.reject(new Error('EACCES: permission denied'));
    await expect(
      ignoreFailure(failing, 'the cache only saves time', { debug: (line) => lines.push(line) }),
    ).resolves.toBeUndefined();
    expect(lines).toEqual(['ignored: EACCES: permission denied (the cache only saves time)']);
  });

  it('needs no logger', async () => {
    await expect(ignoreFailure(Promise.reject(new Error('gone')), 'best effort')).resolves.toBeUndefined();
  });
});
