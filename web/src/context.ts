import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Units } from './format.js';

export interface ActivityTypeInfo {
  slug: string;
  displayName: string;
  category: string;
}

export interface AppState {
  athleteId: string;
  athleteName: string;
  /** The catalog (GET /v1/activity-types), by slug. */
  types: Map<string, ActivityTypeInfo>;
  units: Units;
  setUnits: (units: Units) => void;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error('outside the app');
  return state;
}
