export default function Home() {
  return (
    <main>
      <h1>portside Next.js example</h1>
      <p>An ordinary Next.js app, served by its standalone server. See README.md for the routes.</p>
    </main>
  );
}
