import * as z from 'zod';
import { ATHLETE_SEXES } from './catalog.js';
import { text, TimeZoneSchema, listOf, uuid } from './common.js';
import { SourcePrioritiesResultSchema, SourcePrioritiesUpdateSchema, SourcePrioritiesViewSchema } from './duplicates.contract.js';
import { signedIn, signedInWrite } from './errors.js';

export const AthleteSchema = z
  .object({
    id: uuid('Athlete id'),
    displayName: z.string().describe('Name shown for this athlete').meta({ examples: ['Ada'] }),
    dateOfBirth: z.iso.date().nullable().describe('Date of birth, YYYY-MM-DD').meta({ examples: ['1990-04-17'] }),
    sex: z.enum(ATHLETE_SEXES).nullable().describe('Sex, for physiological calculations'),
    timeZone: TimeZoneSchema,
    createdAt: z.date().describe('When the athlete was created (UTC)'),
    updatedAt: z.date().describe('When the athlete was last changed (UTC)'),
  })
  .meta({ id: 'Athlete' });

/** Longest display name; sign-up copies the user's name into the default athlete, so it has the same limit. */
export const DISPLAY_NAME_MAX_LENGTH = 200;

const AthleteFields = z.strictObject({
  displayName: text({ min: 1, max: DISPLAY_NAME_MAX_LENGTH, trim: true }).describe('Name shown for this athlete').meta({ examples: ['Ada'] }),
  dateOfBirth: z.iso.date().nullable().optional().describe('Date of birth, YYYY-MM-DD'),
  sex: z.enum(ATHLETE_SEXES).nullable().optional().describe('female, male or other'),
  timeZone: TimeZoneSchema.optional().describe('IANA time zone; default UTC'),
});

export const AthleteCreateSchema = AthleteFields.meta({ id: 'AthleteCreate' });
export const AthleteUpdateSchema = AthleteFields.partial().extend({ id: uuid('Athlete id') }).meta({ id: 'AthleteUpdate' });

export const AthleteListQuerySchema = z.strictObject({
  cursor: text({ max: 500 }).optional().describe('nextCursor of the previous page'),
  limit: z.number().int().min(1).max(200).optional().describe('Page size, 1–200, default 50'),
});

export const AthleteListSchema = listOf(AthleteSchema).meta({ id: 'AthleteList' });

const route = { tags: ['Athletes'] as string[] };

export const athletesContract = {
  list: signedIn
    .route({ ...route, method: 'GET', path: '/v1/athletes', operationId: 'listAthletes', summary: 'List my athletes, oldest first' })
    .input(AthleteListQuerySchema.optional())
    .output(AthleteListSchema),
  get: signedIn
    .route({ ...route, method: 'GET', path: '/v1/athletes/{id}', operationId: 'getAthlete', summary: 'Get one athlete' })
    .input(z.strictObject({ id: uuid('Athlete id') }))
    .output(AthleteSchema),
  create: signedInWrite
    .route({
      ...route,
      method: 'POST',
      path: '/v1/athletes',
      operationId: 'createAthlete',
      summary: 'Create an athlete',
      successStatus: 201,
    })
    .input(AthleteCreateSchema)
    .output(AthleteSchema),
  update: signedInWrite
    .route({ ...route, method: 'PATCH', path: '/v1/athletes/{id}', operationId: 'updateAthlete', summary: 'Update an athlete' })
    .input(AthleteUpdateSchema)
    .output(AthleteSchema),
  delete: signedInWrite
    .route({
      ...route,
      method: 'DELETE',
      path: '/v1/athletes/{id}',
      operationId: 'deleteAthlete',
      summary: 'Delete an athlete with all its activities and streams',
      successStatus: 204,
    })
    .input(z.strictObject({ id: uuid('Athlete id') }))
    .output(z.void()),
  getSourcePriorities: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/athletes/{id}/source-priorities',
      operationId: 'getSourcePriorities',
      summary: 'The source priority that elects each duplicate group’s primary (the default when none was set)',
    })
    .input(z.strictObject({ id: uuid('Athlete id') }))
    .output(SourcePrioritiesViewSchema),
  putSourcePriorities: signedInWrite
    .route({
      ...route,
      method: 'PUT',
      path: '/v1/athletes/{id}/source-priorities',
      operationId: 'putSourcePriorities',
      summary: 'Set the source priority; re-elects the primaries of this athlete’s duplicate groups and answers how many changed',
    })
    .input(SourcePrioritiesUpdateSchema)
    .output(SourcePrioritiesResultSchema),
};

export type Athlete = z.output<typeof AthleteSchema>;
export type AthleteCreate = z.output<typeof AthleteCreateSchema>;
export type AthleteUpdate = z.output<typeof AthleteUpdateSchema>;
export type AthleteListQuery = z.output<typeof AthleteListQuerySchema>;
export type AthleteList = z.output<typeof AthleteListSchema>;
