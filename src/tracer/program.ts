// The tracer's bpftrace program. It is made of the built-in packages (`exec`, `files`, `tcp`, `dns`) in
// src/bpf/builtin.ts: each contributes the probes of its trace kinds, joined under one scope filter, one BEGIN
// record and one END. Kept here so the tracer imports its program from where it always did.
export {
  DEFAULT_PROGRAM_OPTIONS, MARKER_BASE, generateProgram, type ProgramOptions, type TraceScope,
} from '../bpf/builtin.ts';
