package dev.genmesh.launcher.scaling.impl;

/** A pool whose Deployment does not exist: a configuration or deployment mistake, not a transient failure. */
public final class MissingDeploymentException extends RuntimeException {
  public MissingDeploymentException(String namespace, String deployment) {
    super("no deployment " + deployment + " in namespace " + namespace);
  }
}
