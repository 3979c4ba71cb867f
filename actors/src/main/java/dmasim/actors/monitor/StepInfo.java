package dmasim.actors.monitor;

import dmasim.protocol.EnvelopeId;

/** Where an event happened: the step, the virtual time, the actor handling the envelope and the envelope's id. */
public record StepInfo(long step, long time, String actor, EnvelopeId envelope) {}
