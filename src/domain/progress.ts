/**
 * How far a paged listing is, as its walk reports after each page: what a `running` result shows (pages and
 * accounts so far) and what a job's expected finish is reckoned from (pages still to fetch).
 */
export interface PageDetail {
  /** Pages fetched so far by this listing. */
  pages: number;
  /** Pages the whole listing takes, when the vendor reported a total. */
  pagesTotal?: number;
  /** Accounts (or other records) fetched so far. */
  accounts?: number;
}
