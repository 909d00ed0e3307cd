import { beforeAll, describe, expect, it } from 'vitest';
import { loadFixture, normalisedTemplate, synthBuilding } from './helpers';

describe('synthesized template snapshot', () => {
  let template: unknown;
  beforeAll(() => {
    template = normalisedTemplate(synthBuilding(loadFixture()).stack);
  });

  it('matches the reviewed template, asset hashes aside', () => {
    expect(template).toMatchSnapshot();
  });

  it('normalises every asset hash, so handler code changes leave the snapshot alone', () => {
    expect(JSON.stringify(template)).not.toMatch(/[0-9a-f]{64}/);
  });
});
