export { figureLine, markdownTables, peakConcurrency, percentile, ratioLine, summarize } from './stats.ts';
export type { FigureRow, RatioTarget, Summary } from './stats.ts';
