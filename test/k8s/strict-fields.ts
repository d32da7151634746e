/**
 * Unknown-field check for rendered manifests. The Kubernetes OpenAPI schemas (and so
 * kubernetes-models' validate()) accept fields they do not define, so a misspelt
 * `readinesProbe` or a field at the wrong level passes them and the API server silently drops it.
 * kubernetes-models also ships a TypeScript interface for every kind; typing each object as an
 * object literal of its interface lets the TypeScript compiler's excess-property check find every
 * field the API does not have, at any depth, along with wrong value types.
 */
import { join } from 'node:path';
import ts from 'typescript';
import type { K8sObject } from './kustomize.js';

/** The kubernetes-models module and interface of each apiVersion and kind the manifests use. */
export const MODEL_MODULES: Record<string, string> = {
  'v1/Namespace': 'kubernetes-models/v1/Namespace',
  'v1/ServiceAccount': 'kubernetes-models/v1/ServiceAccount',
  'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
  'v1/Secret': 'kubernetes-models/v1/Secret',
  'v1/Service': 'kubernetes-models/v1/Service',
  'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
  'apps/v1/StatefulSet': 'kubernetes-models/apps/v1/StatefulSet',
  'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
};

export interface FieldProblem {
  object: string;
  message: string;
  line: string;
}

/**
 * Type-checks every object against its kubernetes-models interface and returns the problems
 * (unknown fields, wrong types), each naming the object and the offending line of its JSON.
 */
export function strictFieldProblems(objects: readonly K8sObject[], repoRoot: string): FieldProblem[] {
  const lines: string[] = [];
  const owners: string[] = [];
  const push = (text: string, owner: string) => {
    for (const line of text.split('\n')) {
      lines.push(line);
      owners.push(owner);
    }
  };
  const imports = new Map<string, string>();
  objects.forEach((object, index) => {
    const key = `${object.apiVersion}/${object.kind}`;
    const module = MODEL_MODULES[key];
    if (!module) throw new Error(`no kubernetes-models interface known for ${key}`);
    const typeName = `I${object.kind}`;
    imports.set(module, typeName);
    const owner = `${object.kind}/${object.metadata.name}`;
    push(`export const object${index}: ${typeName} = ${JSON.stringify(object, null, 1)};`, owner);
  });
  const header = [...imports].map(([module, typeName]) => `import type { ${typeName} } from '${module}';`);
  const source = [...header, ...lines].join('\n');

  const fileName = join(repoRoot, 'test', 'k8s', '__rendered_manifests__.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) =>
    name === fileName
      ? ts.createSourceFile(name, source, languageVersion)
      : getSourceFile(name, languageVersion, ...rest);
  host.fileExists = (name) => name === fileName || fileExists(name);
  host.readFile = (name) => (name === fileName ? source : readFile(name));
  const program = ts.createProgram({ rootNames: [fileName], options, host });
  const file = program.getSourceFile(fileName);
  if (!file) throw new Error('the generated source file was not loaded');
  const diagnostics = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
  return diagnostics.map((diagnostic) => {
    const at = diagnostic.start === undefined ? 0 : file.getLineAndCharacterOfPosition(diagnostic.start).line;
    const bodyLine = at - header.length;
    return {
      object: owners[bodyLine] ?? '(imports)',
      message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
      line: (lines[bodyLine] ?? source.split('\n')[at] ?? '').trim(),
    };
  });
}
