package dev.genmesh.client;

/** Told before each retry of a call: what was called, the attempts made, the failure, the wait. */
@FunctionalInterface
public interface RetryListener {
  void retrying(String what, int attemptsMade, GenmeshException failure, long delayMs);
}
