/** @type {import('next').NextConfig} */
const nextConfig = {
  // A self-contained server (.next/standalone/server.js) with only the
  // node_modules it needs: what goes into the function zip.
  output: 'standalone',
};

export default nextConfig;
