/**
 * Breadth first over undirected edges: the one walk behind a router mesh's
 * reach, its diameter, and the hops and paths between sites.
 */

/** Every node reached from `start` along `edges` (either direction), with its hop count and the node it was first reached from. */
export function breadthFirst<T>(start: T, edges: readonly (readonly [T, T])[]): Map<T, { hops: number; via: T }> {
  const reached = new Map<T, { hops: number; via: T }>([[start, { hops: 0, via: start }]]);
  let frontier = [start];
  for (let hops = 1; frontier.length > 0; hops++) {
    const next: T[] = [];
    for (const at of frontier) {
      for (const [a, b] of edges) {
        const other = a === at ? b : b === at ? a : undefined;
        if (other !== undefined && !reached.has(other)) {
          reached.set(other, { hops, via: at });
          next.push(other);
        }
      }
    }
    frontier = next;
  }
  return reached;
}

/** The nodes from `start` to `end` along `edges`, fewest hops first found; undefined when no chain of edges joins them. */
export function shortestPath<T>(start: T, end: T, edges: readonly (readonly [T, T])[]): T[] | undefined {
  const reached = breadthFirst(start, edges);
  if (!reached.has(end)) return undefined;
  const path = [end];
  while (path[0] !== start) path.unshift(reached.get(path[0]!)!.via);
  return path;
}
