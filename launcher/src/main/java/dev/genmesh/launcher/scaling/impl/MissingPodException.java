package dev.genmesh.launcher.scaling.impl;

/** A worker to drain that is not a pod of its pool's Deployment (gone already, or another pool's). */
public final class MissingPodException extends RuntimeException {
  public MissingPodException(String namespace, String deployment, String pod) {
    super("no pod " + pod + " of deployment " + deployment + " in namespace " + namespace);
  }
}
