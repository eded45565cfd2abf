package dev.genmesh.launcher.scaling;

import java.util.List;

/**
 * What the Kubernetes actuator did to one pool's Deployment, or, in dry-run mode, would have done.
 *
 * @param from the Deployment's replicas before, or -1 when a dry run could not read them
 * @param drained pods given a low deletion cost before the replicas went down
 * @param description one line for the log, e.g. {@code would scale deployment
 *     genmesh-worker-us-west-l4 in namespace genmesh from 4 to 9 (reason predicted_high)}
 */
public record ScaleAction(String pool, String namespace, String deployment, int from, int to, List<String> drained,
    boolean dryRun, String description) {
  public ScaleAction {
    drained = List.copyOf(drained);
  }

  public boolean changed() {
    return from != to;
  }
}
