// Keyset paging of a timeline kept in memory (seat and person pages: their URL names the seat or
// person; the page position is not shared).
import { renderTimeline } from './timeline.js';

export function pagedTimeline(target, filter, columns) {
  let back = [];
  const show = (after) =>
    renderTimeline(target, filter, {
      after,
      columns,
      history: back,
      onPage: (cursor, direction) => {
        if (direction === 'forward') back = [...back, after];
        else if (direction === 'back') back = back.slice(0, -1);
        else back = [];
        show(cursor);
      },
    });
  return show('');
}
