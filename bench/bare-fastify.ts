/** The yardstick for predict throughput: a bare Fastify route answering a constant, in its own process. */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/predict', async () => ({ outputs: [[0.1, 0.2, 0.7]], labels: ['virginica'] }));
await app.listen({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1' });
process.stdout.write('listening\n');
