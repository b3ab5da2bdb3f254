// One page of a list (GET /v1/jobs, /v1/models, /v1/datasets): newest first, then by id, so that an id says where a
// page starts. A page reads one row more than it shows: that row, if there is one, begins the next page and its id
// is the page's nextCursor.

export interface PageQuery {
  limit: number;
  /** The first row of the page: the nextCursor of the one before. */
  cursor?: string;
}

/** findMany's orderBy, take and cursor for the page. */
export const pageArgs = ({ limit, cursor }: PageQuery) => ({
  orderBy: [{ createdAt: 'desc' as const }, { id: 'desc' as const }],
  take: limit + 1,
  ...(cursor ? { cursor: { id: cursor } } : {}),
});

/** The page's items, each as `view` shows it, and the cursor of the next page (null on the last). */
export function pageFrom<Row extends { id: string }, Item>(rows: Row[], limit: number, view: (row: Row) => Item): { items: Item[]; nextCursor: string | null } {
  return { items: rows.slice(0, limit).map(view), nextCursor: rows.length > limit ? rows[limit].id : null };
}
