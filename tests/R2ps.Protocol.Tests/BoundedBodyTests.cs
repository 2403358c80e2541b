namespace R2ps.Protocol.Tests;

public class BoundedBodyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static byte[] Bytes(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1500)]
    [InlineData(64 * 1024)]
    public async Task Reads_a_body_of_its_declared_length_into_an_array_of_exactly_that_length(int length)
    {
        var body = Bytes(length);
        var read = await BoundedBody.ReadAsync(new TrickleStream(body, 100), length, 64 * 1024, Ct);
        Assert.Equal(body, read);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(BoundedBody.UndeclaredInitialBytes - 1)]
    [InlineData(BoundedBody.UndeclaredInitialBytes)]
    [InlineData(BoundedBody.UndeclaredInitialBytes + 1)]
    [InlineData(64 * 1024)]
    public async Task Reads_a_body_without_a_declared_length_whole_up_to_the_limit(int length)
    {
        var body = Bytes(length);
        Assert.Equal(body, await BoundedBody.ReadAsync(new TrickleStream(body, 333), null, 64 * 1024, Ct));
    }

    [Fact]
    public async Task A_declared_length_over_the_limit_is_refused_without_reading()
    {
        var stream = new TrickleStream(Bytes(10), 10);
        Assert.Null(await BoundedBody.ReadAsync(stream, 11, 10, Ct));
        Assert.Equal(0, stream.BytesRead);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(5L)]
    [InlineData(10L)]
    public async Task A_body_one_byte_over_the_limit_is_refused_having_read_no_more_than_that_byte(long? declared)
    {
        // Declared shorter than it is (a lying length): read on, within the limit, and refused once past it.
        var stream = new TrickleStream(Bytes(1000), 3);
        Assert.Null(await BoundedBody.ReadAsync(stream, declared, 10, Ct));
        Assert.InRange(stream.BytesRead, 11, 13);
    }

    [Fact]
    public async Task A_body_longer_than_declared_but_within_the_limit_is_read_whole()
    {
        var body = Bytes(300);
        Assert.Equal(body, await BoundedBody.ReadAsync(new TrickleStream(body, 7), 200, 1000, Ct));
    }

    [Fact]
    public async Task A_body_shorter_than_declared_is_returned_as_it_came()
    {
        var body = Bytes(50);
        Assert.Equal(body, await BoundedBody.ReadAsync(new TrickleStream(body, 7), 80, 1000, Ct));
    }

    [Fact]
    public async Task A_limit_of_zero_accepts_only_the_empty_body()
    {
        Assert.Equal(Array.Empty<byte>(), await BoundedBody.ReadAsync(new TrickleStream([], 1), null, 0, Ct));
        Assert.Null(await BoundedBody.ReadAsync(new TrickleStream([1], 1), null, 0, Ct));
        Assert.Null(await BoundedBody.ReadAsync(new TrickleStream([1], 1), 0, 0, Ct));
    }

    /// <summary>Hands out at most <c>chunk</c> bytes per read, as a network stream does, and counts what it handed out.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : Stream
    {
        public int BytesRead { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(Math.Min(chunk, buffer.Length), data.Length - BytesRead);
            data.AsSpan(BytesRead, n).CopyTo(buffer);
            BytesRead += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
