"""Reference bytes for tests/tensorboard/test_summary_writer.cpp, made by TensorBoard's own
protobuf classes and CRC code (PyPI tensorboard) and PyTorch's summary functions.
Run: /usr/bin/python3 tests/tensorboard/make_proto_vectors.py > tests/tensorboard/data/proto_vectors.txt
Each line: <name> <hex bytes>."""
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
from torch.utils.tensorboard import summary as torch_summary


def emit(name, data):
    print(name, data.hex())


emit("masked_crc32c_123456789", masked_crc32c(b"123456789").to_bytes(4, "little"))
emit("masked_crc32c_empty", masked_crc32c(b"").to_bytes(4, "little"))
emit("file_version_event", event_pb2.Event(wall_time=1.5, file_version="brain.Event:2").SerializeToString())
emit("scalar_event", event_pb2.Event(wall_time=1700000000.25, step=300,
                                     summary=torch_summary.scalar("loss/train", 0.125)).SerializeToString())
emit("negative_step_event", event_pb2.Event(wall_time=2.0, step=-1,
                                            summary=summary_pb2.Summary()).SerializeToString())
emit("text_summary", torch_summary.text("notes", "hi \u00fc").SerializeToString())
emit("histogram_summary", summary_pb2.Summary(value=[summary_pb2.Summary.Value(
    tag="h", histo=summary_pb2.HistogramProto(min=-1, max=2, num=5, sum=2, sum_squares=5.5,
                                              bucket_limit=[-1, 0, 1, 2, 3], bucket=[0, 1, 3, 0, 1]))])
     .SerializeToString())
emit("image_summary", summary_pb2.Summary(value=[summary_pb2.Summary.Value(
    tag="img", image=summary_pb2.Summary.Image(height=2, width=3, colorspace=4,
                                               encoded_image_string=b"PNGDATA"))]).SerializeToString())
