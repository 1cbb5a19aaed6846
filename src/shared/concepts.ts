/**
 * Deep Feature Factorization's legend: which colour of the combined picture is which concept, and the
 * classes the model's head links each concept with. Made in the worker (it has the labels) and sent
 * with the panel's info; the page draws it beside the panel and the export writes it in the caption.
 */
import type { Concepts } from './types';

export interface ConceptLegendEntry {
  /** The concept's colour in the combined picture, [r, g, b] 0–255. */
  colour: [number, number, number];
  /** Its most probable classes through the head, most probable first. */
  classes: Array<{ label: string; probability: number }>;
}

/** One entry per concept, in the concepts' order (concept j is "concept j + 1"). */
export function conceptLegend(concepts: Concepts, labels: readonly string[]): ConceptLegendEntry[] {
  return concepts.topClasses.map((top, j) => ({
    colour: concepts.colours[j] ?? [0, 0, 0],
    classes: top.map(({ index, probability }) => ({ label: labels[index] ?? `class ${index}`, probability })),
  }));
}

/** A colour's name for the caption (tab10's names, else its hex), so that a printed export still reads. */
const COLOUR_NAMES: ReadonlyMap<string, string> = new Map([
  ['31,119,180', 'blue'], ['255,127,14', 'orange'], ['44,160,44', 'green'], ['214,39,40', 'red'], ['148,103,189', 'purple'],
  ['140,86,75', 'brown'], ['227,119,194', 'pink'], ['127,127,127', 'grey'], ['188,189,34', 'olive'], ['23,190,207', 'cyan'],
  ['0,0,128', 'navy'], ['128,128,0', 'dark olive'], ['0,128,128', 'teal'], ['128,0,128', 'dark purple'], ['255,215,0', 'gold'], ['0,0,0', 'black'],
]);

export function colourName(colour: readonly [number, number, number]): string {
  return COLOUR_NAMES.get(colour.join(',')) ?? `#${colour.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/** "circle 97 %, square 2 %": a concept's classes, those under 1 % left out (the first is always kept). */
export function conceptClassesText(entry: ConceptLegendEntry): string {
  return entry.classes
    .filter((c, i) => i === 0 || c.probability >= 0.01)
    .map((c) => `${c.label} ${Math.round(c.probability * 100)} %`)
    .join(', ');
}

/** A concept cell's title: "Concept 1: circle 97 %, square 2 %" (index 0-based). */
export function conceptTitle(index: number, entry: ConceptLegendEntry): string {
  return `Concept ${index + 1}: ${conceptClassesText(entry)}`;
}

/** The caption's lines, one per concept: "Concept 1 (blue): circle 97 %, square 2 %". */
export function conceptCaption(entries: readonly ConceptLegendEntry[]): string[] {
  return entries.map((e, j) => `Concept ${j + 1} (${colourName(e.colour)}): ${conceptClassesText(e)}`);
}
