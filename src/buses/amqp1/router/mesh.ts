/**
 * Router meshes as graphs: named shapes (single, chain, ring, star, full
 * mesh, tree) or an explicit edge list, checked to be one connected mesh.
 * Pure data, so every shape is tested without a router.
 */

export const MESH_SHAPES = ['single', 'chain', 'ring', 'star', 'full', 'tree'] as const;
export type MeshShape = (typeof MESH_SHAPES)[number];

/** An undirected inter-router link between router indexes, lower index first. */
export type Edge = readonly [number, number];

export interface MeshSpec {
  routers: number;
  shape?: MeshShape;
  /** explicit links instead of a shape */
  edges?: readonly (readonly [number, number])[];
  /** children per router in a tree (default 2) */
  treeFanout?: number;
}

export class MeshError extends Error {
  override readonly name = 'MeshError';
}

function normalize(a: number, b: number): Edge {
  return a < b ? [a, b] : [b, a];
}

/** The links of a mesh, each once, lower index first, sorted. */
export function meshEdges(spec: MeshSpec): Edge[] {
  const n = spec.routers;
  if (!Number.isInteger(n) || n < 1) throw new MeshError(`a mesh needs at least 1 router, got ${n}`);
  const edges: Edge[] = [];
  if (spec.edges) {
    const seen = new Set<string>();
    for (const [a, b] of spec.edges) {
      for (const end of [a, b]) {
        if (!Number.isInteger(end) || end < 0 || end >= n) throw new MeshError(`edge [${a}, ${b}]: router ${end} does not exist (routers are 0 … ${n - 1})`);
      }
      if (a === b) throw new MeshError(`edge [${a}, ${b}] links a router to itself`);
      const edge = normalize(a, b);
      const key = edge.join('-');
      if (seen.has(key)) throw new MeshError(`edge [${a}, ${b}] is listed twice`);
      seen.add(key);
      edges.push(edge);
    }
  } else {
    const shape = spec.shape ?? (n === 1 ? 'single' : 'full');
    switch (shape) {
      case 'single':
        if (n !== 1) throw new MeshError(`shape "single" has 1 router, got ${n}`);
        break;
      case 'chain':
        for (let i = 1; i < n; i++) edges.push([i - 1, i]);
        break;
      case 'ring':
        for (let i = 1; i < n; i++) edges.push([i - 1, i]);
        if (n > 2) edges.push([0, n - 1]);
        break;
      case 'star':
        for (let i = 1; i < n; i++) edges.push([0, i]);
        break;
      case 'full':
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) edges.push([i, j]);
        break;
      case 'tree': {
        const fanout = spec.treeFanout ?? 2;
        if (!Number.isInteger(fanout) || fanout < 1) throw new MeshError(`tree fanout must be >= 1, got ${fanout}`);
        for (let i = 1; i < n; i++) edges.push([Math.floor((i - 1) / fanout), i]);
        break;
      }
      default:
        throw new MeshError(`unknown mesh shape "${String(shape)}" (known: ${MESH_SHAPES.join(', ')})`);
    }
  }
  const sorted = edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const unreachable = unreachableRouters(n, sorted);
  if (unreachable.length > 0) throw new MeshError(`routers ${unreachable.join(', ')} cannot be reached from router 0: the mesh is not connected`);
  return sorted;
}

/** Routers that no path of links joins to router 0. */
export function unreachableRouters(routers: number, edges: readonly Edge[]): number[] {
  const neighbours = Array.from({ length: routers }, () => [] as number[]);
  for (const [a, b] of edges) {
    neighbours[a]!.push(b);
    neighbours[b]!.push(a);
  }
  const reached = new Set([0]);
  const queue = [0];
  while (queue.length > 0) {
    for (const next of neighbours[queue.shift()!]!) {
      if (!reached.has(next)) {
        reached.add(next);
        queue.push(next);
      }
    }
  }
  return Array.from({ length: routers }, (_, i) => i).filter((i) => !reached.has(i));
}
