// What a use case says about input it refuses: each wrong field by name, with the reason.

/** One field that is wrong, named by its JSON path (e.g. "to[3]"). */
export interface FieldError {
  field: string;
  message: string;
}
