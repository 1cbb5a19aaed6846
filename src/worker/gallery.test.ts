import { describe, expect, it } from 'vitest';
import { datasetRoot, matchLabel } from './gallery';

describe('gallery files', () => {
  it('finds the dataset root shared by every path, so that the class subfolders are the true labels', () => {
    expect(datasetRoot(['shapes/circle/1.png', 'shapes/square/2.png'])).toBe('shapes/');
    expect(datasetRoot(['a/b/circle/1.png', 'a/b/square/2.png', 'a/b/star/x/3.png'])).toBe('a/b/');
    expect(datasetRoot(['circle/1.png', 'square/2.png'])).toBe(''); // a zip of class folders
    expect(datasetRoot(['1.png', '2.png'])).toBe('');
    expect(datasetRoot([])).toBe('');
  });

  it("spells a folder as the model's label when they match (case, spaces, _ and - aside)", () => {
    const labels = ['Golden Retriever', 'cat', 'not cat'];
    expect(matchLabel('golden_retriever', labels)).toBe('Golden Retriever');
    expect(matchLabel('CAT', labels)).toBe('cat');
    expect(matchLabel('not-cat', labels)).toBe('not cat');
    expect(matchLabel('dog', labels)).toBe('dog');
    expect(matchLabel(null, labels)).toBeNull();
  });
});
