/**
 * Compile-time checks that the Drizzle tables agree with the contract (STYLE.md "One definition per
 * field"): the contract's zod schemas own the public shape; a table only has to fit it. Nothing here
 * runs: `npm run typecheck` (and the build) fail when a column's type drifts from its public field,
 * a public field has no column, or a column is added without deciding whether it is public.
 */
import type { ActivityEventSchema, ActivitySummary, Athlete, MEASURES, StatisticSchema } from '@unified-activity/contract';
import type * as z from 'zod';
import type { ActivityEventRow, ActivityRow, ActivityStatisticRow, AthleteRow } from './schema/index.js';

type Assert<T extends true> = T;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** The row's columns under the contract's names (the same camelCase names), narrowed to the public ones. */
export type PublicColumns<Row, Public> = { [K in keyof Public & keyof Row]: Row[K] };
/** A row satisfies a public type when every public field is a column whose row type is assignable to it. */
type Satisfies<Row, Public> = [keyof Public] extends [keyof Row] ? (PublicColumns<Row, Public> extends Public ? true : false) : false;

/** Every public field of an activity summary is a column of the same type. */
export type ActivityRowSatisfiesSummary = Assert<Satisfies<ActivityRow, ActivitySummary>>;
/**
 * The columns an activity summary leaves out, on purpose: a new column must be added to the contract or here.
 * sourceData and the archive pointer are in the detail view only; userId, the payload hash and the
 * fields the user edited (reprocessing's bookkeeping) are internal.
 */
export type ActivityPrivateColumns = Assert<
  Equal<
    Exclude<keyof ActivityRow, keyof ActivitySummary>,
    'sourceData' | 'sourceDataReceivedAt' | 'sourceArchiveKey' | 'sourceArchiveIndex' | 'sourceDataHash' | 'editedFields' | 'userId'
  >
>;
/** Every measure of the contract's MEASURES is a nullable number column. */
export type MeasuresAreColumns = Assert<
  Satisfies<ActivityRow, { [K in keyof typeof MEASURES]: number | null }> &
    Equal<{ [K in keyof typeof MEASURES]: ActivityRow[K] }, { [K in keyof typeof MEASURES]: number | null }>
>;
export type StatisticRowSatisfiesContract = Assert<Satisfies<ActivityStatisticRow, z.output<typeof StatisticSchema>>>;
export type EventRowSatisfiesContract = Assert<Satisfies<ActivityEventRow, z.output<typeof ActivityEventSchema>>>;

export type AthleteRowSatisfiesContract = Assert<Satisfies<AthleteRow, Athlete>>;
/** userId is the owner (never public). */
export type AthletePrivateColumns = Assert<Equal<Exclude<keyof AthleteRow, keyof Athlete>, 'userId'>>;
