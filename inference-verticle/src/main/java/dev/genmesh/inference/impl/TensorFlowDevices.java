package dev.genmesh.inference.impl;

import static org.tensorflow.internal.c_api.global.tensorflow.TF_CloseSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteDeviceList;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteGraph;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListCount;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListMemoryBytes;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListName;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListType;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_GetCode;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_Message;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewGraph;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_OK;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SessionListDevices;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetConfig;

import dev.genmesh.inference.DeviceLister;
import dev.genmesh.inference.pipeline.SessionSettings;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.tensorflow.TensorFlow;
import org.tensorflow.internal.c_api.TF_DeviceList;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;

/**
 * Lists devices through TensorFlow's C API ({@code TF_SessionListDevices}) on an empty session
 * configured like the worker's model sessions, so {@code visible_device_list} applies. TensorFlow
 * Java has no public call for this.
 */
public final class TensorFlowDevices implements DeviceLister {
  private final SessionSettings settings;

  public TensorFlowDevices(SessionSettings settings) {
    this.settings = settings;
  }

  @Override
  public List<Device> devices() {
    TensorFlow.version(); // loads the native library
    byte[] config = settings.toConfigProto().toByteArray();
    TF_Status status = TF_NewStatus();
    TF_Graph graph = TF_NewGraph();
    TF_SessionOptions options = TF_NewSessionOptions();
    TF_Session session = null;
    try (BytePointer bytes = new BytePointer(config)) {
      TF_SetConfig(options, bytes, config.length, status);
      check(status, "session config");
      session = TF_NewSession(graph, options, status);
      check(status, "new session");
      TF_DeviceList list = TF_SessionListDevices(session, status);
      check(status, "list devices");
      try {
        List<Device> devices = new ArrayList<>();
        for (int i = 0; i < TF_DeviceListCount(list); i++) {
          String name = TF_DeviceListName(list, i, status).getString();
          String type = TF_DeviceListType(list, i, status).getString();
          long memory = TF_DeviceListMemoryBytes(list, i, status);
          check(status, "device " + i);
          devices.add(new Device(name, type, memory));
        }
        return List.copyOf(devices);
      } finally {
        TF_DeleteDeviceList(list);
      }
    } finally {
      if (session != null) {
        TF_CloseSession(session, status);
        TF_DeleteSession(session, status);
      }
      TF_DeleteSessionOptions(options);
      TF_DeleteGraph(graph);
      TF_DeleteStatus(status);
    }
  }

  private static void check(TF_Status status, String what) {
    if (TF_GetCode(status) != TF_OK) {
      throw new IllegalStateException("TensorFlow could not list its devices (" + what + "): "
          + TF_Message(status).getString());
    }
  }
}
