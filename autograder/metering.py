"""Everything a kernel sends is metered, on every channel, before it is decoded.

nbclient reads only what it expects: the reply to the running cell on the shell channel and
that cell's outputs on iopub. What else arrives (a flood of replies or outputs whose parent
is another message) was never counted and could hold a cell past its limit, since each
message restarts nbclient's wait. Here each channel counts the raw bytes of every message
against the submission's output budget, sockets refuse frames larger than the biggest
witness, channels nobody reads (stdin, control) are not opened, and the shell channel stops
waiting as soon as the running cell has used its CPU time or the budget is gone, whatever
the kernel sends. Queues keep ZeroMQ's default length: a shorter one would drop a burst of
legitimate output, the witness among it, when a busy machine makes the grader read late.
"""
import math
import time
from queue import Empty

import zmq
import zmq.asyncio
from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type, default

from . import harness, wire

POLL_SECONDS = 0.25  # how often a waiting shell channel looks at the running cell's CPU time
LARGEST_FRAME = 2 * wire.MAX_WIRE_BYTES + (1 << 20)  # a witness, JSON-escaped inside its message
HEADER_FREE = 4096  # bytes of a protocol message, or of a header frame, that are not the student's output
WITNESS = "witness"


class CellAllowance:
    """The CPU time the running cell may still use, read from its KernelClock at most every POLL_SECONDS."""

    def __init__(self, clock, cpu_seconds):
        self._clock, self.cpu_seconds = clock, cpu_seconds
        self._start = clock.cpu()
        self._checked, self.used_up = time.monotonic(), False

    def spent(self):
        if not self.used_up and time.monotonic() - self._checked >= POLL_SECONDS:
            self._checked = time.monotonic()
            self.used_up = self._clock.cpu() - self._start > self.cpu_seconds
        return self.used_up


class Meter:
    """One kernel's output budget, and what the running cell may send without spending it.

    Every message counts, on every channel, but for the protocol's own traffic of the running
    cell: its echo (the grader's own code), its two status messages and its reply, each once,
    and the one witness a probe expects. The first 4 KB of each header frame is free too.
    """

    def __init__(self, output_limit):
        self.output_limit, self.output_bytes = output_limit, 0
        self.allowance = None  # the running cell's CellAllowance; None between cells
        self._free = {}

    def start_cell(self, allowance, code, probe):
        self.allowance = allowance
        echo = 6 * len(code) + HEADER_FREE  # JSON escapes a character in at most 6
        self._free = {"execute_input": [1, echo], "status": [2, HEADER_FREE], "execute_reply": [1, HEADER_FREE],
                      WITNESS: [int(probe), LARGEST_FRAME]}

    def end_cell(self):
        self.allowance, self._free = None, {}

    @property
    def exceeded(self):
        return self.output_bytes > self.output_limit

    def should_stop(self):
        return self.exceeded or (self.allowance is not None and self.allowance.spent())

    def count(self, idents, frames, msg):
        """Spend the budget on a received message: `frames` after the `idents`, `msg` decoded from them."""
        size = sum(map(len, idents)) + sum(map(len, frames)) - sum(min(len(f), HEADER_FREE) for f in frames[:4])
        kind = WITNESS if _is_witness(msg) else msg.get("msg_type")
        free = self._free.get(kind)
        if free and free[0] > 0 and size <= free[1]:
            free[0] -= 1
        else:
            self.output_bytes += size


def _is_witness(msg):
    content = msg.get("content")
    return msg.get("msg_type") == "display_data" and isinstance(content, dict) \
        and isinstance(content.get("data"), dict) and harness.WITNESS_MIME in content["data"]


class MeteredChannel(AsyncZMQSocketChannel):
    """A channel that counts every message it receives and, once a meter is set, stops waiting
    when the meter says so (on the shell channel) or drops what arrives past the budget."""

    meter = None
    stops_waiting = False  # the shell channel: its wait is the cell's wait

    async def _recv(self, **kwargs):
        """The next message, or None when it is past the budget (then it is not even decoded)."""
        frames = await self.socket.recv_multipart(**kwargs)
        if self.meter is not None and self.meter.exceeded:
            return None
        idents, message_frames = self.session.feed_identities(frames)
        msg = self.session.deserialize(message_frames)
        if self.meter is None:
            return msg
        self.meter.count(idents, message_frames, msg)
        return None if self.meter.exceeded else msg

    async def get_msg(self, timeout=None):
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.stops_waiting and self.meter is not None and self.meter.should_stop():
                raise Empty
            wait = POLL_SECONDS if end is None else min(POLL_SECONDS, end - time.monotonic())
            if wait <= 0:
                raise Empty
            if await self.socket.poll(int(wait * 1000)):
                msg = await self._recv()
                if msg is not None:
                    return msg


class ShellChannel(MeteredChannel):
    stops_waiting = True


class GradingKernelClient(AsyncKernelClient):
    """The kernel client nbclient drives while grading: metered shell and iopub channels."""

    shell_channel_class = Type(ShellChannel)
    iopub_channel_class = Type(MeteredChannel)

    def start_channels(self, shell=True, iopub=True, stdin=True, hb=True, control=True):
        """Only the channels grading reads: a channel nobody reads is a queue the kernel could fill."""
        super().start_channels(shell=shell, iopub=iopub, stdin=False, hb=hb, control=False)

    def meter_with(self, meter):
        self.shell_channel.meter = meter
        self.iopub_channel.meter = meter

    async def wait_for_ready(self, timeout=None):
        """Ready once the kernel has answered a kernel_info request on both channels.

        jupyter_client's own wait ends by draining iopub until it has been silent for 0.2 s, on every kernel
        start, while the grading task waits. Here the wait ends as soon as the kernel says it is idle after the
        request: iopub keeps order, so nothing of the start is left to drain.
        """
        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        while not await self._answered(self.kernel_info()):
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    async def _answered(self, msg_id):
        """Whether kernel_info request `msg_id` got its reply on shell and then its idle status on iopub.

        False when iopub stays silent for 0.2 s or says it has only now subscribed (ipykernel's welcome):
        what the kernel published before that is lost, and the next request's status will not be.
        """
        try:
            reply = await self.shell_channel.get_msg(timeout=1)
            while reply["parent_header"].get("msg_id") != msg_id:  # the reply to an earlier request
                reply = await self.shell_channel.get_msg(timeout=1)
            self._handle_kernel_info_reply(reply)
            while True:
                msg = await self.iopub_channel.get_msg(timeout=0.2)
                if msg["msg_type"] == "iopub_welcome":
                    return False
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" \
                        and msg["content"].get("execution_state") == "idle":
                    return True
        except Empty:
            return False


class GradingKernelManager(AsyncKernelManager):
    """A kernel manager whose clients are metered and whose sockets refuse oversized frames."""

    @default("client_factory")
    def _client_factory_default(self):
        return GradingKernelClient

    @default("context")
    def _context_default(self):
        self._created_context = True
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, LARGEST_FRAME)  # applies to every socket made from it
        return context

    async def _async_wait(self, pollinterval=0.1):
        """Look for the killed kernel's exit every 10 ms rather than jupyter_client's 100: every grading task
        waits for its kernels to go."""
        await super()._async_wait(pollinterval=min(pollinterval, 0.01))
