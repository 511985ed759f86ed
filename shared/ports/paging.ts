// Listings a page at a time.

/** One page of a listing. */
export interface Page<T> {
  items: T[];
  /** Opaque token for the next page; absent on the last page. */
  continuationToken?: string;
}

/** Where a listing starts: how many items, and the token of the previous page. */
export interface PageRequest {
  limit: number;
  continuationToken?: string;
}
