/**
 * The command examples of every docs/*.md run as written, each document in a fresh copy of this
 * checkout (test/helpers/doc-runner.ts says how; test/helpers/doc-examples.ts how blocks are
 * read and marked). A new document is picked up without touching this file.
 */

import { documentedFiles } from '../helpers/doc-examples';
import { describeDocExamples, ROOT } from '../helpers/doc-runner';

describeDocExamples(documentedFiles(ROOT).filter((file) => file !== 'README.md'));
