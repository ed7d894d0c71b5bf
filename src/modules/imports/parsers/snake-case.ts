/** FIT/JS camelCase enum names → the FIT profile's snake_case (`lapSwimming` → `lap_swimming`). */
export function snakeCase(value: string): string {
  return value.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}
