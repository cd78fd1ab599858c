/**
 * How many times an operation calls one root field: aliases, inline fragments and fragment spreads at the
 * root counted, selections switched off by `@skip`/`@include` not. The rate limit needs this before
 * execution, so a whole operation over its allowance is refused before any call reaches GSMS.
 */
import { GraphQLIncludeDirective, GraphQLSkipDirective, getDirectiveValues, getOperationAST, type DocumentNode, type OperationTypeNode, type SelectionSetNode } from 'graphql';

type Variables = Record<string, unknown> | null | undefined;

function isIncluded(node: Parameters<typeof getDirectiveValues>[1], variables: Variables): boolean {
  if (!node.directives?.length) return true;
  const values = variables ?? undefined;
  if (getDirectiveValues(GraphQLSkipDirective, node, values)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, values)?.if !== false;
}

export function countRootFieldCalls(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Variables,
  operationType: OperationTypeNode | `${OperationTypeNode}`,
  fieldName: string,
): number {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== operationType) return 0;
  // Execution merges selections with one response key into one call, so calls are counted by response key.
  const responseKeys = new Set<string>();
  const visitedFragments = new Set<string>();
  const collect = (selectionSet: SelectionSetNode): void => {
    for (const selection of selectionSet.selections) {
      if (!isIncluded(selection, variables)) continue;
      if (selection.kind === 'Field') {
        if (selection.name.value === fieldName) responseKeys.add(selection.alias?.value ?? fieldName);
      } else if (selection.kind === 'InlineFragment') {
        collect(selection.selectionSet);
      } else if (!visitedFragments.has(selection.name.value)) {
        visitedFragments.add(selection.name.value);
        const fragment = document.definitions.find((d) => d.kind === 'FragmentDefinition' && d.name.value === selection.name.value);
        if (fragment?.kind === 'FragmentDefinition') collect(fragment.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  return responseKeys.size;
}
