/**
 * README.md's command examples run as written, in a fresh copy of this checkout
 * (test/helpers/doc-runner.ts says how; test/helpers/doc-examples.ts how blocks are read and
 * marked). docs/*.md run in doc-examples-docs.e2e.test.ts, a file of its own so the two run
 * side by side.
 */
import { describeDocExamples } from '../helpers/doc-runner';

describeDocExamples(['README.md']);
