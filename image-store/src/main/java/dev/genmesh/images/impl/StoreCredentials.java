package dev.genmesh.images.impl;

import dev.genmesh.config.ConfigException;
import dev.genmesh.config.ImagesConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The keys a store signs with, in the order of {@code images.credentials_file}: that file
 * ({@code access_key}, {@code secret_key}), else the keys from the environment, else the AWS
 * SDK's default chain (its own environment variables, web identity, instance profile).
 */
final class StoreCredentials {
  private StoreCredentials() {}

  static AwsCredentialsProvider provider(ImagesConfig.Bucket config) {
    if (!config.credentialsFile().isBlank()) {
      ImagesConfig.Keys keys = read(Path.of(config.credentialsFile()));
      return StaticCredentialsProvider.create(AwsBasicCredentials.create(keys.accessKey(), keys.secretKey()));
    }
    if (config.keys() != null) {
      return StaticCredentialsProvider.create(AwsBasicCredentials.create(config.keys().accessKey(),
          config.keys().secretKey()));
    }
    return DefaultCredentialsProvider.builder().build();
  }

  static ImagesConfig.Keys read(Path file) {
    Properties properties = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      properties.load(in);
    } catch (IOException e) {
      throw new ConfigException("images.credentials_file", "cannot be read (" + file + "): " + e.getMessage());
    }
    String access = properties.getProperty("access_key", "").trim();
    String secret = properties.getProperty("secret_key", "").trim();
    if (access.isEmpty() || secret.isEmpty()) {
      throw new ConfigException("images.credentials_file", file + " must hold access_key and secret_key");
    }
    return new ImagesConfig.Keys(access, secret);
  }
}
